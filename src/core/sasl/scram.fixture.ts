// SCRAM test vectors: the example exchanges of RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 §3
// (SCRAM-SHA-256), both for user "user" with password "pencil", and RFC 7804 §5 (the
// SCRAM-SHA-256 example carried over HTTP). Every string is copied from the RFC.
import { NONCE_ALPHABET } from "./scram-messages.ts";

export interface ScramVector {
  mechanism: "SCRAM-SHA-1" | "SCRAM-SHA-256";
  hash: "SHA-1" | "SHA-256";
  username: string;
  password: string;
  clientNonce: string;
  serverNonce: string;
  salt: string;
  iterations: number;
  clientFirst: string;
  serverFirst: string;
  clientFinal: string;
  serverFinal: string;
}

export const RFC5802: ScramVector = {
  mechanism: "SCRAM-SHA-1",
  hash: "SHA-1",
  username: "user",
  password: "pencil",
  clientNonce: "fyko+d2lbbFgONRv9qkxdawL",
  serverNonce: "3rfcNHYJY1ZVvWVs7j",
  salt: "QSXCR+Q6sek8bf92",
  iterations: 4096,
  clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
  serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
  clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
  serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
};

export const RFC7677: ScramVector = {
  mechanism: "SCRAM-SHA-256",
  hash: "SHA-256",
  username: "user",
  password: "pencil",
  clientNonce: "rOprNGfwEbeRWgbNEkqO",
  serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
  salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
  iterations: 4096,
  clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
  serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
  clientFinal:
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
  serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
};

/** RFC 7804 §5 header values (folded lines joined with a space, as an HTTP parser hands them over). */
export const RFC7804 = {
  offer: 'SCRAM-SHA-256 realm="testrealm@host.com"',
  clientFirst: 'SCRAM-SHA-256 realm="testrealm@host.com", data=biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8K',
  serverFirst:
    "SCRAM-SHA-256 sid=AAAABBBBCCCCDDDD, data=cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTYK",
  clientFinal:
    "SCRAM-SHA-256 sid=AAAABBBBCCCCDDDD, data=Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYkazAscD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQo=",
  authenticationInfo:
    "sid=AAAABBBBCCCCDDDD, data=dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQo=",
  sid: "AAAABBBBCCCCDDDD",
  realm: "testrealm@host.com",
};

/** A random() that makes makeNonce() return exactly `nonce`. */
export function nonceSource(nonce: string): (bytes: number) => Uint8Array {
  return (bytes) => {
    if (bytes !== nonce.length) throw new Error(`asked for ${bytes} bytes, nonce has ${nonce.length}`);
    return Uint8Array.from(nonce, (c) => {
      const index = NONCE_ALPHABET.indexOf(c);
      if (index < 0) throw new Error(`${c} is not a nonce character`);
      return index;
    });
  };
}
