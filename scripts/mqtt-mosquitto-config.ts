import path from "node:path";
import { parseArgs } from "node:util";
import { ensureMqttAccounts } from "../lib/credentials";
import { siteAccess } from "../services/site/access";
import { siteModules } from "../services/site/modules";
import { writeMosquittoConfig } from "../services/site/mosquitto-config";

/**
 * `npm run mqtt:mosquitto-config -- --out <dir>`: the closed broker's accounts and ACL for
 * an external Mosquitto. Accounts come from credentials.json (generated there if missing,
 * so the site, the services and the console log in with exactly these).
 */
const USAGE = `usage: npm run mqtt:mosquitto-config -- --out <dir> [--mosquitto-passwd <path>]
  writes <dir>/passwd (hashed), <dir>/acl and <dir>/mosquitto.conf (the lines to include)
  for the site's components (SWITCHYARD_DATA_DIR/credentials.json) and enabled modules`;

const main = async () => {
  const { values } = parseArgs({ options: { out: { type: "string" }, "mosquitto-passwd": { type: "string" }, help: { type: "boolean", short: "h" } }, strict: true });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (!values.out) throw new Error(`--out is required\n${USAGE}`);
  const dataDir = path.resolve(process.env.SWITCHYARD_DATA_DIR || ".data");
  const access = siteAccess(siteModules, process.env);
  const accounts = ensureMqttAccounts(dataDir, Object.keys(access));
  const written = await writeMosquittoConfig({ outDir: values.out, access, accounts, mosquittoPasswd: values["mosquitto-passwd"] });
  process.stdout.write(
    `wrote ${written.passwd}, ${written.acl} and ${written.conf} for ${Object.keys(access).join(", ")}\n` +
      `include ${written.conf} from mosquitto.conf, restart mosquitto, then: MQTT_URL=mqtt://<host>:<port> npm start\n`,
  );
};

main().catch((error: unknown) => {
  process.stderr.write(`mqtt:mosquitto-config: ${(error as Error).message}\n`);
  process.exit(1);
});
