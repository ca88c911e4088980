import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readMigrations } from '../src/platform/migrate.ts';

describe('migrations', () => {
  it('are numbered 1, 2, 3… with no number used twice (a second file with one number would never run)', async () => {
    const versions = (await readMigrations()).map((m) => m.version);
    assert.deepEqual(
      versions,
      versions.map((_, i) => i + 1),
    );
  });
});
