// diff.js: a line diff (longest common subsequence) of two texts, as a
// list of lines marked added, removed or kept.

import { h } from "./dom.js";

export function diffLines(a, b) {
  const x = a.split("\n"), y = b.split("\n");
  const n = x.length, m = y.length;
  // LCS lengths from the end; configurations are small (hundreds of lines).
  const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const out = [];
  let i = 0, j = 0, changes = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { out.push(h("div", { class: "same" }, "  " + x[i])); i++; j++; }
    else if (i < n && (j === m || L[i + 1][j] >= L[i][j + 1])) { out.push(h("del", {}, "- " + x[i])); i++; changes++; }
    else { out.push(h("ins", {}, "+ " + y[j])); j++; changes++; }
  }
  return [h("p", { class: "muted" }, changes ? changes + " changed line(s)" : "No differences"), h("pre", { class: "json" }, out)];
}
