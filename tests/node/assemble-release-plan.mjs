// Reads cases from stdin — [{packages: [{name, version, dependencies, ...}], releases: [{name, type}]}]
// — and prints, for each, the releases @changesets/assemble-release-plan plans:
// [[{name, type, newVersion}]] (type "none" left out). The reference for tamma-release's
// independent mode (tests/all/independent.rs).
import { assembleReleasePlan } from "@changesets/assemble-release-plan";
import { defaultConfig } from "@changesets/config";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));

const out = input.map(({ packages, releases }) => {
  const root = { dir: "/repo", packageJson: { name: "root", version: "0.0.0", private: true } };
  const manifests = packages.map((p) => ({ dir: `/repo/packages/${p.name}`, packageJson: p }));
  const plan = assembleReleasePlan(
    [{ id: "change", summary: "change", releases }],
    { rootDir: "/repo", rootPackage: root, root, packages: manifests, tool: { type: "pnpm" } },
    { ...defaultConfig },
    undefined,
  );
  return plan.releases
    .filter((r) => r.type !== "none")
    .map((r) => ({ name: r.name, type: r.type, newVersion: r.newVersion }));
});
process.stdout.write(JSON.stringify(out));
