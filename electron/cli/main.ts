// `pix`: the command-line face of the workbench. Dispatches to one module per subcommand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closest, type Command } from './command';
import { benchCommand } from './commands/bench';
import { convertCommand } from './commands/convert';
import { dataCommand } from './commands/data';
import { evalCommand } from './commands/eval';
import { infoCommand } from './commands/info';
import { inspectCommand } from './commands/inspect';
import { modelsCommand } from './commands/models';
import { predictCommand } from './commands/predict';
import { runsCommand } from './commands/runs';
import { serveCommand } from './commands/serve';
import { trainCommand } from './commands/train';

const commands: readonly Command[] = [infoCommand, modelsCommand, trainCommand, evalCommand, predictCommand, inspectCommand, convertCommand, benchCommand, dataCommand, serveCommand, runsCommand];

function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return ['PiX Workbench command-line tool', '', 'usage: pix <command> [options]', '', 'commands:', ...lines, '',
    'pix <command> --help shows the options of one command.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(version());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    const hint = closest(name, commands.map((c) => c.name));
    console.error(`pix: unknown command '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; see pix --help`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  return command.run(rest);
}
