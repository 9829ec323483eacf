/**
 * Python specifics shared by python.Commands and python.Script: which interpreter to call and how
 * `dependencies` are installed. Both are shell snippets, so they work the same on the host and,
 * later, inside a container.
 */
import { Enum, Type, type Static } from '../../contract/index.ts';
import { TaskFailure } from '../types.ts';
import { shellQuote } from '../../scripts/index.ts';
import { dynamic, list } from './exec-script.ts';

/** Kestra's current default image for Python tasks. */
export const PYTHON_DEFAULT_IMAGE = 'python:3.13-slim';

/** Set by Kestra for every Python task: unbuffered output (logs arrive live) and quiet pip. */
export const PYTHON_ENV: Readonly<Record<string, string>> = {
  PYTHONUNBUFFERED: 'true',
  PIP_ROOT_USER_ACTION: 'ignore',
  PIP_DISABLE_PIP_VERSION_CHECK: '1',
};

/** Where `dependencies` are installed, relative to the working directory; put on PYTHONPATH. */
export const PYTHON_PACKAGES_DIR = '.python-packages';

/** The Python tasks' own properties (spread into their `Type.Object`). */
export const PYTHON_PROPERTIES = {
  dependencies: Type.Optional(dynamic(Type.Array(Type.String()), { description: 'Python packages to install first.' })),
  pythonVersion: Type.Optional(Type.String({ description: 'The Python version to call, e.g. 3.12.' })),
  packageManager: Type.Optional(Enum(['UV', 'PIP'], { description: 'How dependencies are installed (UV, falling back to PIP).' })),
  /** Accepted for compatibility; Baton installs dependencies afresh for each run. */
  dependencyCacheEnabled: Type.Optional(dynamic(Type.Boolean())),
};

const Python = Type.Object(PYTHON_PROPERTIES);
export type PythonProps = Static<typeof Python>;

/** Shell variable holding the interpreter chosen by `pythonSelection`. */
export const PYTHON_VARIABLE = 'BATON_PYTHON';

/**
 * A line choosing the Python to run into `$BATON_PYTHON`: `python<version>` when `pythonVersion` is
 * set, else `python`, else `python3` (hosts and slim images often have only one of them). Each
 * candidate is tried, not just looked up, because version managers install shims that exist but
 * refuse to run. A requested version that is missing is reported as a WARN log line.
 */
export function pythonSelection(pythonVersion?: string): string {
  const candidates = ['python', 'python3'];
  let wanted: string | undefined;
  if (pythonVersion) {
    const match = /^(\d+)(?:\.(\d+))?(?:\.\d+)?$/.exec(pythonVersion.trim());
    if (!match) throw new TaskFailure(`pythonVersion: '${pythonVersion}' is not a version such as 3.12`);
    wanted = match[2] === undefined ? `python${match[1]}` : `python${match[1]}.${match[2]}`;
    candidates.unshift(wanted);
  }
  const v = PYTHON_VARIABLE;
  const choose =
    `${v}=$(for c in ${candidates.join(' ')}; do if "$c" -c "" >/dev/null 2>&1; then echo "$c"; break; fi; done); ` +
    `${v}=\${${v}:-python}`;
  if (!wanted) return choose;
  const warning = JSON.stringify({ logs: [{ level: 'WARN', message: `${wanted} is not available here, using the default Python instead` }] });
  return `${choose}; if [ "$${v}" != ${wanted} ]; then echo ${shellQuote(`::${warning}::`)}; fi`;
}

/**
 * Lines installing `dependencies` into the working directory and putting them on PYTHONPATH,
 * after `pythonSelection`: with uv when asked for and installed, else with pip (Kestra's UV falls
 * back to PIP the same way). A failed install fails the task even when failFast is off.
 */
export function dependencySetup(props: PythonProps): string[] {
  const dependencies = list(props.dependencies, 'dependencies') ?? [];
  if (dependencies.length === 0) return [];
  const python = `"$${PYTHON_VARIABLE}"`;
  const target = `"$WORKING_DIR/${PYTHON_PACKAGES_DIR}"`;
  const packages = dependencies.map(shellQuote).join(' ');
  const pip = `${python} -m pip install --quiet --target ${target} ${packages}`;
  const install = (props.packageManager ?? 'UV') === 'UV'
    ? `if command -v uv >/dev/null 2>&1; then uv pip install --quiet --python ${python} --target ${target} ${packages}; else ${pip}; fi`
    : pip;
  return [`${install} || exit $?`, `export PYTHONPATH=${target}"\${PYTHONPATH:+:$PYTHONPATH}"`];
}

/** The setup lines of a Python task: choose the interpreter, then install `dependencies` if any. */
export function pythonSetup(props: PythonProps): string[] {
  return [pythonSelection(props.pythonVersion), ...dependencySetup(props)];
}
