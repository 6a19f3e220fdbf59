import { Args } from '@oclif/core';
import KreplayHelp from '../help-class.js';
import { KreplayCommand } from '../base.js';
import { unknownCommand } from '../usage.js';

export default class HelpCommand extends KreplayCommand {
  static override summary = 'Show the help of kreplay or of one command (the same as kreplay COMMAND --help)';
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help replay', '<%= config.bin %> help kernel build'];
  static override strict = false;
  static override args = {
    command: Args.string({ required: false, description: 'a command (words of a topic command separated by spaces: kernel build)' }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(HelpCommand);
    const words = (argv as string[]).filter((a) => !a.startsWith('-'));
    const id = words.join(':');
    if (id && !this.config.findCommand(id) && !this.config.findTopic(id)) {
      this.note(
        unknownCommand(
          id,
          this.config.commands.map((c) => c.id.replace(/:/g, ' ')).filter((c) => c !== 'help'),
        ),
      );
      this.exit(2);
    }
    const cmd = id ? this.config.findCommand(id) : undefined;
    const help = new KreplayHelp(this.config, { stripAnsi: true });
    if (cmd) await help.showCommandHelp(cmd);
    else await help.showHelp(id ? [id] : []);
  }
}
