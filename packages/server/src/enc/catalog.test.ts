import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@canopy/core';
import { assertInCatalog, catalogIssues, parseCatalog } from './catalog.ts';

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ValidationError, `expected a ValidationError, got ${String(e)}`);
    return e;
  }
  return assert.fail('expected a ValidationError');
}

describe('parseCatalog', () => {
  test('reads one class per line, skipping blanks and comments, sorted and de-duplicated', () => {
    const text = '# classes offered by puppet.git\n\nrole::web\n  base  # every machine\r\n::nginx\nbase\n';
    assert.deepEqual(parseCatalog(text, 'text/plain; charset=utf-8'), {
      classes: [
        { name: 'base', parameters: null },
        { name: 'nginx', parameters: null },
        { name: 'role::web', parameters: null },
      ],
    });
  });

  test('names every bad line with its number', () => {
    const v = validationError(() => parseCatalog('base\nWeb-Server\n\nclass\nok::fine\n'));
    assert.deepEqual(v.issues.map((i) => i.path), [['line', 2], ['line', 4]]);
    assert.match(v.message, /2 bad line/);
    assert.match(v.message, /line 2 'Web-Server'/);
    assert.match(v.message, /line 4 'class': 'class' is reserved/);
  });

  test('accepts a JSON array of names and of {name, parameters}, sniffed without a content type', () => {
    const json = JSON.stringify(['base', { name: 'nginx', parameters: ['worker_processes', 'listen'] }, { name: 'nginx', parameters: ['ssl'] }]);
    assert.deepEqual(parseCatalog(json), {
      classes: [
        { name: 'base', parameters: null },
        { name: 'nginx', parameters: ['listen', 'ssl', 'worker_processes'] },
      ],
    });
  });

  test('names bad JSON elements by index', () => {
    const json = JSON.stringify(['ok', 42, { name: 'Bad' }, { name: 'x', parameters: ['title'] }, { name: 'y', parameters: 'port' }]);
    const err = validationError(() => parseCatalog(json, 'application/json'));
    assert.deepEqual(err.issues.map((i) => i.path), [[1], [2, 'name'], [3, 'parameters', 0], [4, 'parameters']]);
  });

  test('refuses a JSON content type that is not JSON, an HTML error page, and an empty catalog', () => {
    assert.throws(() => parseCatalog('base\n', 'application/json'), /not valid JSON/);
    assert.throws(() => parseCatalog('<html><body>404</body></html>\n', 'text/html'), /bad line/);
    assert.throws(() => parseCatalog('# nothing yet\n'), /no classes/);
  });
});

describe('checking classes against the catalog', () => {
  const catalog = parseCatalog(JSON.stringify(['base', { name: 'nginx', parameters: ['worker_processes'] }]));

  test('refuses a class the catalog does not list', () => {
    assert.deepEqual(catalogIssues({ base: {}, mysql: {} }, catalog), [
      { path: ['classes', 'mysql'], message: "class 'mysql' is not in the classes catalog" },
    ]);
  });

  test('refuses an undeclared parameter only when the catalog lists parameters; metaparameters always pass', () => {
    assert.deepEqual(catalogIssues({ base: { anything: 1 }, nginx: { worker_processes: 4, stage: 'pre' } }, catalog), []);
    const issues = catalogIssues({ nginx: { listen: 80 } }, catalog, ['defaults', 'classes']);
    assert.deepEqual(issues.map((i) => i.path), [['defaults', 'classes', 'nginx', 'listen']]);
    assert.throws(() => assertInCatalog({ nginx: { listen: 80 } }, catalog), ValidationError);
  });
});
