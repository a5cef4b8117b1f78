/**
 * Puppet name grammar for the ENC (issue #4), taken from Puppet 7's "Reserved words and acceptable
 * names" page and its parser (pops/validation/checker4_0.rb, parser/scope.rb). Canopy is stricter
 * than Puppet where Puppet's own docs call the looser form a bug that may stop working.
 */

/** A class name in canonical form: namespace segments joined by `::`, no leading `::`. */
export const CLASS_NAME_RE = /^[a-z][a-z0-9_]*(::[a-z][a-z0-9_]*)*$/;

/** A class parameter or top-scope parameter name. */
export const PARAM_NAME_RE = /^[a-z][a-z0-9_]*$/;

/** A Puppet environment name (the directory under `environments/`). */
export const ENVIRONMENT_RE = /^[a-z0-9_]+$/;

export const CLASS_NAME_MAX = 200;
export const PARAM_NAME_MAX = 100;
export const ENVIRONMENT_MAX = 64;

/** The environment a node gets when nothing in its chain sets one: Puppet's own default. */
export const DEFAULT_ENVIRONMENT = 'production';

/** Top-scope parameters Canopy itself writes into every ENC answer. */
export const CANOPY_PARAM_PREFIX = 'canopy_';

// Language keywords and reserved words: Puppet refuses them as class names.
const RESERVED_WORDS = [
  'and', 'application', 'attr', 'case', 'class', 'component', 'consumes', 'default', 'define', 'else',
  'elsif', 'environment', 'false', 'function', 'if', 'import', 'in', 'inherits', 'node', 'or',
  'private', 'produces', 'regexp', 'site', 'true', 'type', 'undef', 'unit', 'unless', 'plan',
];
// Data type names (checker4_0 RESERVED_TYPE_NAMES) and the two namespaces Puppet creates itself.
const RESERVED_TYPE_NAMES = [
  'any', 'scalar', 'boolean', 'numeric', 'integer', 'float', 'collection', 'array', 'hash', 'tuple',
  'struct', 'variant', 'optional', 'enum', 'pattern', 'runtime', 'init', 'object', 'sensitive',
  'semver', 'semverrange', 'string', 'timestamp', 'timespan', 'typeset',
];
const RESERVED_CLASS_NAMES: ReadonlySet<string> = new Set([...RESERVED_WORDS, ...RESERVED_TYPE_NAMES, 'main', 'settings']);

/** Class parameters Puppet reserves for every class (checker4_0 RESERVED_PARAMETERS). */
export const RESERVED_CLASS_PARAMS: ReadonlySet<string> = new Set(['name', 'title']);

/**
 * Metaparameters: valid on any class declaration (e.g. `stage` for run stages), so they are accepted
 * even when the catalog lists the class's parameters and does not name them.
 */
export const METAPARAMETERS: ReadonlySet<string> = new Set([
  'alias', 'audit', 'before', 'loglevel', 'noop', 'notify', 'require', 'schedule', 'stage', 'subscribe', 'tag',
]);

/**
 * Top-scope variables Puppet forbids (`trusted`, `facts`, `server_facts`) or sets itself on the
 * server; an ENC parameter with one of these names would fail the compile or be silently replaced.
 */
export const RESERVED_TOP_SCOPE: ReadonlySet<string> = new Set([
  'trusted', 'facts', 'server_facts', 'environment', 'title', 'name', 'module_name', 'caller_module_name',
  'clientcert', 'clientversion', 'clientnoop', 'agent_specified_environment', 'servername', 'serverip',
  'serverversion', 'settings',
]);

/** Section names of puppet.conf, which Puppet refuses as environment names. */
const RESERVED_ENVIRONMENTS: ReadonlySet<string> = new Set(['main', 'master', 'agent', 'user', 'server']);

/** Why `name` is not a usable class name, or null when it is. */
export function classNameProblem(name: string): string | null {
  if (name.length === 0) return 'class name is empty';
  if (name.length > CLASS_NAME_MAX) return `class name is longer than ${CLASS_NAME_MAX} characters`;
  if (name.startsWith('::')) return `write the class name without the leading '::' (${name.slice(2)})`;
  if (!CLASS_NAME_RE.test(name)) {
    return 'class name must be lower-case segments [a-z][a-z0-9_]* joined by ::';
  }
  if (!name.includes('::') && RESERVED_CLASS_NAMES.has(name)) return `'${name}' is reserved by Puppet`;
  if (name.endsWith('::init')) return "'<module>::init' is reserved by Puppet: use the module name";
  return null;
}

/** Why `name` is not a usable class parameter name, or null when it is. */
export function classParamProblem(name: string): string | null {
  if (name.length > PARAM_NAME_MAX) return `parameter name is longer than ${PARAM_NAME_MAX} characters`;
  if (!PARAM_NAME_RE.test(name)) return 'parameter name must match [a-z][a-z0-9_]*';
  if (RESERVED_CLASS_PARAMS.has(name)) return `'${name}' is reserved by Puppet for every class`;
  return null;
}

/** Why `name` is not a usable top-scope (node) parameter name, or null when it is. */
export function topScopeParamProblem(name: string): string | null {
  if (name.length > PARAM_NAME_MAX) return `parameter name is longer than ${PARAM_NAME_MAX} characters`;
  if (!PARAM_NAME_RE.test(name)) return 'parameter name must match [a-z][a-z0-9_]*';
  if (name.startsWith(CANOPY_PARAM_PREFIX)) return `names starting with '${CANOPY_PARAM_PREFIX}' are set by Canopy`;
  if (RESERVED_TOP_SCOPE.has(name)) return `'${name}' is a variable Puppet reserves or sets itself`;
  return null;
}

/** Why `name` is not a usable environment name, or null when it is. */
export function environmentProblem(name: string): string | null {
  if (name.length === 0 || name.length > ENVIRONMENT_MAX) return `environment name must be 1–${ENVIRONMENT_MAX} characters`;
  if (!ENVIRONMENT_RE.test(name)) return 'environment name must match [a-z0-9_]+';
  if (RESERVED_ENVIRONMENTS.has(name)) return `'${name}' is a puppet.conf section name, not an environment`;
  return null;
}

/** True when `name` is a canonical, non-reserved Puppet class name. */
export function isClassName(name: string): boolean {
  return classNameProblem(name) === null;
}

/** True when `name` is a usable environment name. */
export function isEnvironmentName(name: string): boolean {
  return environmentProblem(name) === null;
}
