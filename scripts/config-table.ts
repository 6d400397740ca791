// Prints the README's configuration reference from the parameter table (src/core/config).
import { PARAMETERS } from "../src/core/config/parameters.ts";

console.log("| Postfix parameter | Postern default | Postfix default, where different | meaning |");
console.log("|---|---|---|---|");
for (const [name, p] of Object.entries(PARAMETERS)) {
  const postfix = "postfix" in p ? `\`${p.postfix}\`` : "";
  const value = p.default === "" ? "(empty)" : `\`${p.default}\``;
  console.log(`| \`${name}\` | ${value} | ${postfix} | ${p.meaning} |`);
}
