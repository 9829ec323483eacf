// Kestra's Pebble templating, built on nunjucks's lexer and parser: the one door of this folder.
export type { TemplateServices } from './callables.ts';
export { TemplateError, UndefinedVariableError } from './errors.ts';
export { checkTemplateSyntax, renderTemplate, renderTyped, renderValue } from './renderer.ts';
