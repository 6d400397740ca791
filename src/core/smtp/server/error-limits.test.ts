// smtpd_error_sleep_time / smtpd_soft_error_limit / smtpd_hard_error_limit: each failed command
// counts; past the soft limit every reply waits (a delay output); at the hard limit 421 and close.
import { describe, expect, it } from "vitest";
import { plain, transcript } from "./transcript.test-helper.ts";

describe("error limits", () => {
  it("no delay up to the soft limit, a delay before every reply past it, 421 at the hard limit", async () => {
    const t = await transcript({
      smtpd: { smtpd_soft_error_limit: "2", smtpd_hard_error_limit: "4", smtpd_error_sleep_time: "3s" },
    });
    await t.ehlo();
    await t.send("FOO\r\n");
    t.expect(/^502 /); // errors = 1
    await t.send("FOO\r\n");
    t.expect(/^502 /); // errors = 2
    await t.send("NOOP\r\n");
    t.expect("250 2.0.0 Ok"); // 2 is not past the soft limit
    await t.send("FOO\r\n");
    t.expect(/^502 /); // errors = 3
    await t.send("NOOP\r\n");
    t.expectDelay(3000); // past the soft limit: even a good reply waits
    t.expect("250 2.0.0 Ok");
    await t.send("FOO\r\n");
    t.expectDelay(3000);
    t.expect(/^502 /); // errors = 4: the hard limit, at once
    t.expectDelay(3000);
    t.expect("421 4.7.0 mx.postern.test Error: too many errors");
    t.expectClose();
    t.expectNothing();
    expect(t.logs).toContain("too many errors after UNKNOWN from client.example[203.0.113.5]");
  });

  it("Postfix's defaults: 10 errors before delays, 20 before the disconnect", async () => {
    const t = await transcript({ tls: {} });
    await t.ehlo();
    const outputs: string[] = [];
    for (let i = 0; i < 25 && !t.session.closed; i++) {
      for (const output of await t.send(`AUTH PLAIN ${plain("alice", `guess${i}`)}\r\n`)) {
        outputs.push(output.kind === "reply" ? output.text.slice(0, 3) : output.kind);
      }
    }
    const failures = Array(20).fill("535");
    // Once more than 10 errors were made (from the 12th reply on) every reply waits; the 20th
    // failure is followed at once by the 421.
    for (let i = 11; i < 20; i++) failures[i] = ["delay", "535"];
    expect(outputs).toEqual([...failures.flat(), "delay", "421", "close"]);
  });

  it("a delivered message clears the count", async () => {
    const t = await transcript({
      tls: {},
      smtpd: { smtpd_soft_error_limit: "1", smtpd_hard_error_limit: "3" },
    });
    await t.ehlo();
    await t.send("FOO\r\n");
    t.expect(/^502 /);
    await t.send("FOO\r\n");
    t.expect(/^502 /);
    await t.send(`AUTH PLAIN ${plain("alice", "alice-password")}\r\n`);
    t.expectDelay(1000);
    t.expect("235 2.7.0 Authentication successful");
    await t.send("MAIL FROM:<alice@example.com>\r\n");
    await t.send("RCPT TO:<bob@remote.test>\r\n");
    await t.send("DATA\r\n");
    await t.send("x\r\n.\r\n");
    expect(t.drain()).toEqual([
      "250 2.1.0 Ok",
      "250 2.1.5 Ok",
      expect.stringMatching(/^354/),
      "250 2.0.0 Ok: queued as QID1",
    ]);
    // Back to zero: the next error is answered without delay, and two more stay under the hard
    // limit of 3 (without the reset the first would have ended the session).
    await t.send("FOO\r\n");
    t.expect(/^502 /);
    await t.send("FOO\r\n");
    t.expect(/^502 /);
    await t.send("NOOP\r\n");
    t.expectDelay(1000);
    t.expect("250 2.0.0 Ok");
  });

  it("smtpd_error_sleep_time = 0 never delays", async () => {
    const t = await transcript({
      smtpd: { smtpd_soft_error_limit: "0", smtpd_error_sleep_time: "0" },
    });
    await t.ehlo();
    await t.send("FOO\r\n");
    await t.send("NOOP\r\n");
    expect(t.drain()).toEqual(["502 5.5.2 Error: command not recognized", "250 2.0.0 Ok"]);
  });

  it("rejected recipients count as errors too", async () => {
    const t = await transcript({ smtpd: { smtpd_hard_error_limit: "2" } });
    await t.ehlo();
    await t.send("MAIL FROM:<>\r\n");
    await t.send("RCPT TO:<a@remote.test>\r\n");
    await t.send("RCPT TO:<b@remote.test>\r\n");
    expect(t.drain()).toEqual([
      "250 2.1.0 Ok",
      "554 5.7.1 <a@remote.test>: Relay access denied",
      "554 5.7.1 <b@remote.test>: Relay access denied",
      "421 4.7.0 mx.postern.test Error: too many errors",
    ]);
    expect(t.session.closed).toBe(true);
  });
});
