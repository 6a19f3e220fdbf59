/**
 * oclif's help, with one fix: `kreplay help --help` and `kreplay help help` show the help
 * command's own help (oclif drops the word "help" and shows the root help instead).
 */
import { Help } from '@oclif/core';

export default class KreplayHelp extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    const words = argv.filter((a) => !a.startsWith('-'));
    const help = this.config.findCommand('help');
    if (help && words.length > 0 && words.every((w) => w === 'help')) return this.showCommandHelp(help);
    return super.showHelp(argv);
  }
}
