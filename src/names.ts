// Which file names survive a round trip through MLflow. Apart from the directory scan, so
// that the inputs can check artifact-path with it without loading the YAML parser at start.
/**
 * Why MLflow's own client could not download a file or directory of this name from the
 * server, or undefined when it can. Found by experiment against the real server (the
 * e2e test test/e2e/names.test.ts keeps it true); non-ASCII names are checked by
 * fetching them back after the upload instead (stores/proxy.ts).
 */
export function nameProblem(name: string): string | undefined {
  const reasons: string[] = [];
  // Control characters also make manifest lines ambiguous; the client renames them.
  if (/[\u0000-\u001f\u007f]/.test(name)) reasons.push('a control character, which MLflow renames');
  if (name.includes('?')) reasons.push('"?", where MLflow\'s client cuts the name (it starts a query string)');
  if (name.includes('#')) reasons.push('"#", which the MLflow server refuses');
  if (/%[0-9a-fA-F]{2}/.test(name)) reasons.push('a percent-escape such as %41, which MLflow decodes into another name');
  if (name.includes('\\')) reasons.push('"\\", a path separator for MLflow on Windows, whose client and server refuse it');
  if (name.startsWith(' ')) reasons.push("a leading space, which MLflow's client cannot download");
  return reasons.length ? reasons.join('; ') : undefined;
}
