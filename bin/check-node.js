// Plain JavaScript on purpose: this file must run on any Node a newcomer has, to say which one intake needs.
import { fileURLToPath } from 'node:url';

export const NEEDED = [22, 12];

/** One line saying what is running, what is needed and how to get it; null when this Node will do. */
export function nodeProblem(version = process.versions.node, execPath = process.execPath, platform = process.platform, arch = process.arch) {
  const [major, minor] = version.split('.').map(Number);
  if (major > NEEDED[0] || (major === NEEDED[0] && minor >= NEEDED[1])) return null;
  const pkg = `node-${platform === 'win32' ? 'win' : platform}-${arch}@22`;
  return (
    `intake needs Node.js ${NEEDED.join('.')} or newer, but this is Node.js ${version} (${execPath}). ` +
    `Get Node 22 from https://nodejs.org or \`nvm install 22\`, or from the npm registry: ` +
    `\`npm install --prefix ~/.node22 ${pkg}\` then \`export PATH=~/.node22/node_modules/${pkg.slice(0, -3)}/bin:$PATH\`.`
  );
}

// `node bin/check-node.js` (npm's prestart and pretest): exit 1 with that line on an old Node.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const problem = nodeProblem();
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}
