// The wallet of the node clients: pays a BOLT11 by running the pay command given as a JSON
// argv (`satrank pay --lnd-dir <customer dir> --lnd-host <customer>`), which pays through
// simnet's customer node and prints the preimage hex.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export function commandWallet(payCommandJson) {
  const [cmd, ...args] = JSON.parse(payCommandJson);
  return async (invoice) => {
    const { stdout } = await run(cmd, [...args, invoice], { timeout: 90_000 });
    return stdout.trim();
  };
}
