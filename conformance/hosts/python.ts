/**
 * Finding a Python that can run a Python adapter: NORMCHECK_PYTHON when set (and only it: the user chose),
 * else `python3` on PATH, else /usr/bin/python3 (a distribution's Python, where Debian's python3-torch and
 * python3-numpy live even when another python3 comes first on PATH). The first that imports every module
 * asked for wins. Looking a module up (importlib.util.find_spec) does not import it: torch takes a second to
 * import, the lookup a few milliseconds.
 */
import { spawnSync } from 'node:child_process';

export type PythonSearch = { python: string } | { missing: string };

const cache = new Map<string, PythonSearch>();

export function pythonCandidates(): string[] {
  const chosen = process.env.NORMCHECK_PYTHON;
  return chosen ? [chosen] : ['python3', '/usr/bin/python3'];
}

/** The first candidate Python in which every module of `modules` can be imported, or what is missing where. */
export function findPython(modules: readonly string[]): PythonSearch {
  const key = `${pythonCandidates().join('\0')}\u0001${modules.join(',')}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const tried: string[] = [];
  let found: PythonSearch | null = null;
  for (const python of pythonCandidates()) {
    const probe = spawnSync(python, ['-c', `import importlib.util, sys\nsys.exit(0 if all(importlib.util.find_spec(m) for m in ${JSON.stringify(modules)}) else 3)`], {
      encoding: 'utf8', timeout: 15_000,
    });
    if (probe.status === 0) {
      found = { python };
      break;
    }
    tried.push(probe.error ? `${python} (not found)` : `${python} (no ${modules.join(' or ')})`);
  }
  found ??= { missing: `no Python with ${modules.join(' and ')}: tried ${tried.join(', ')}${process.env.NORMCHECK_PYTHON ? ' (NORMCHECK_PYTHON)' : ''}` };
  cache.set(key, found);
  return found;
}
