// gen-auth: the base64 an SMTP client sends for AUTH, to paste into a telnet/openssl s_client
// session or a swaks/curl command line. PLAIN is one initial response; LOGIN is two answers (the
// username, then the password); XOAUTH2 is one initial response with the access token.

export type GenAuthMechanism = "plain" | "login" | "xoauth2";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

export function genAuth(mechanism: GenAuthMechanism, user: string, secret: string, authzid = ""): string[] {
  switch (mechanism) {
    case "plain":
      return [b64(`${authzid}\0${user}\0${secret}`)];
    case "login":
      return [b64(user), b64(secret)];
    case "xoauth2":
      return [b64(`user=${user}\x01auth=Bearer ${secret}\x01\x01`)];
  }
}
