// Reads [{current, messages}] as JSON on stdin and prints, for each case, what semantic-release's
// commit-analyzer (conventionalcommits preset) says the release type is and the version
// node-semver's inc() makes of it: the reference for tamma-release's `auto` bump.
import { analyzeCommits } from "@semantic-release/commit-analyzer";
import semver from "semver";

const logger = { log() {}, error() {}, success() {} };
let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const { current, messages } of JSON.parse(input)) {
  const commits = messages.map((message, i) => ({ hash: i.toString(16).padStart(40, "0"), message }));
  const type = await analyzeCommits({ preset: "conventionalcommits" }, { commits, logger, cwd: process.cwd() });
  out.push({ type: type ?? null, next: type ? semver.inc(current, type) : null });
}
process.stdout.write(JSON.stringify(out));
