/** Script task plugins, for the plugin registry. */
export { shellCommands } from './shell-commands.ts';
export { shellScript } from './shell-script.ts';
export { pythonCommands } from './python-commands.ts';
export { pythonScript } from './python-script.ts';
