// The SMTP adapter in upstream mode in one call: the listeners of the embedded runtime, over a
// deployed gateway instead of a data folder's database and queue. main.ts starts it when
// postern_upstream_url is set; tests start it in-process on port 0.
import { type RawSettings, Settings } from "../../core/config/settings.ts";
import { consoleLogger } from "../../core/console-logger.ts";
import { type RunningSmtpListener, type SmtpListenerConfig, startSmtpFront } from "../smtp-listener.ts";
import { GatewayClient } from "./gateway-client.ts";
import { upstreamSmtpBackend } from "./upstream-backend.ts";

export interface UpstreamAdapterConfig {
  /** main.cf parameters (postern_upstream_url among them) and the environment's. */
  settings: RawSettings;
  /** Only for a self-signed certificate when smtpd_tls_cert_file is not set; nothing else is kept. */
  dataDir: string;
  smtp: SmtpListenerConfig;
}

export interface RunningUpstreamAdapter {
  gatewayUrl: string;
  smtp: RunningSmtpListener;
  stop(graceMs?: number): Promise<void>;
}

export async function startUpstreamAdapter(config: UpstreamAdapterConfig): Promise<RunningUpstreamAdapter> {
  const settings = new Settings(config.settings);
  const url = settings.get("postern_upstream_url");
  if (url === "") throw new Error("postern_upstream_url is not set");
  const gateway = new GatewayClient({
    url,
    caFile: settings.get("postern_upstream_tls_CAfile") || undefined,
    timeoutMs: timeoutOf(settings),
  });
  const logger = consoleLogger("postern/smtpd");
  let smtp: RunningSmtpListener;
  try {
    smtp = await startSmtpFront(upstreamSmtpBackend(settings, gateway, logger), config.dataDir, config.smtp);
  } catch (error) {
    gateway.close();
    throw error;
  }
  consoleLogger("postern/master").info(`upstream mode: authentication, policy and messages go to ${url}`);
  let stopped: Promise<void> | null = null;
  return {
    gatewayUrl: url,
    smtp,
    stop: (graceMs) => {
      stopped ??= smtp.stop(graceMs).finally(() => gateway.close());
      return stopped;
    },
  };
}

function timeoutOf(settings: Settings): number {
  const ms = settings.duration("postern_upstream_timeout");
  if (ms === 0) throw new Error("postern_upstream_timeout = 0: expected a time like 30s");
  return ms;
}
