import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BaSection, chooseBestAvailable } from './best-available.ts';

/**
 * Draws a section from rows of text: '.' free, 'X' taken, front row first.
 * Returns the section and the taken test; seat labels are 1-based positions.
 */
function draw(id: string, price: number, rows: string[], order = 0, base = 0) {
  const taken = new Set<number>();
  let index = base;
  const section: BaSection = {
    id,
    name: id,
    price,
    order,
    rows: rows.map((text, r) => ({
      label: String.fromCharCode(65 + r),
      seats: [...text].map((ch, x) => {
        if (ch === 'X') taken.add(index);
        return { index: index++, x };
      }),
    })),
  };
  return { section, taken, next: index };
}

function pick(sections: ReturnType<typeof draw>[], quantity: number) {
  const taken = new Set(sections.flatMap((s) => [...s.taken]));
  const choice = chooseBestAvailable(
    sections.map((s) => s.section),
    (i) => taken.has(i),
    quantity,
  );
  if (!choice) return undefined;
  const section = sections.find((s) => s.section.id === choice.sectionId)!.section;
  const row = section.rows.find((r) => r.label === choice.rowLabel)!;
  // Render the chosen row with 'o' for the chosen seats, to compare with a drawing.
  const line = row.seats.map((s) => (choice.indexes.includes(s.index) ? 'o' : taken.has(s.index) ? 'X' : '.')).join('');
  return { section: choice.sectionId, row: choice.rowLabel, line };
}

describe('best-available', () => {
  it('fits exactly into the only gap of the right size', () => {
    const a = draw('A', 100, ['XXX..XXX']);
    assert.deepEqual(pick([a], 2), { section: 'A', row: 'A', line: 'XXXooXXX' });
  });

  it('takes the front row, centred, when the section is empty', () => {
    const a = draw('A', 100, ['........', '........']);
    assert.deepEqual(pick([a], 2), { section: 'A', row: 'A', line: '...oo...' });
  });

  it('uses the next section when the best-priced one cannot fit the group', () => {
    const premium = draw('P', 200, ['X.X.X.X.', '.X.X.X.X']);
    const standard = draw('S', 100, ['........'], 1, premium.next);
    assert.deepEqual(pick([premium, standard], 2), { section: 'S', row: 'A', line: '...oo...' });
  });

  it('prefers the most expensive section, then venue order between equal prices', () => {
    const cheap = draw('C', 50, ['....']);
    const first = draw('F', 90, ['....'], 1, cheap.next);
    const second = draw('G', 90, ['....'], 2, first.next);
    assert.equal(pick([cheap, second, first], 2)?.section, 'F');
  });

  it('does not leave a single orphan seat when another block avoids it', () => {
    // Centred would be 'X.oo..X' leaving one seat on the left; 'Xoo...X'? leaves 3 — fine.
    const a = draw('A', 100, ['X.....X']);
    const got = pick([a], 2)!;
    assert.equal(got.line.match(/X\.o|o\.X/) === null, true, `orphan left in ${got.line}`);
  });

  it('goes a row back rather than leave an orphan in the front row', () => {
    const a = draw('A', 100, ['X...X', '.....']);
    // Front row has a 3-gap: any pair leaves one orphan. Row B can take a pair without one.
    const got = pick([a], 2)!;
    assert.equal(got.row, 'B');
    assert.doesNotMatch(got.line, /^\.o|o\.$|X\.o|o\.X/);
  });

  it('accepts an orphan when no block avoids one', () => {
    const a = draw('A', 100, ['X...X']);
    const got = pick([a], 2)!;
    assert.equal(got.row, 'A');
    assert.equal(got.line.replaceAll('X', '').length, 3);
  });

  it('finds nothing when the quantity is larger than any row', () => {
    const a = draw('A', 100, ['....', '....']);
    assert.equal(pick([a], 5), undefined);
  });

  it('finds nothing when no row has enough adjacent free seats', () => {
    const a = draw('A', 100, ['.X.X.', 'X.X.X']);
    assert.equal(pick([a], 2), undefined);
  });

  it('never picks a taken seat, and picks adjacent seats of one row', () => {
    const a = draw('A', 100, ['XX..X...XX', '..........']);
    const got = pick([a], 3)!;
    assert.equal(got.row, 'A');
    assert.match(got.line, /ooo/);
  });

  it('chooses exactly as a walk over every block of every row would, on random sections', () => {
    // The reference: every block of `quantity` free seats side by side, compared in full.
    function reference(sections: BaSection[], isTaken: (i: number) => boolean, quantity: number) {
      const ordered = [...sections].sort((a, b) => b.price - a.price || a.order - b.order);
      for (const section of ordered) {
        let best:
          { key: [number, number, number]; choice: { sectionId: string; rowLabel: string; indexes: number[] } } | undefined;
        section.rows.forEach((row, r) => {
          const centre = (row.seats[0]!.x + row.seats.at(-1)!.x) / 2;
          for (let s = 0; s + quantity <= row.seats.length; s++) {
            const block = row.seats.slice(s, s + quantity);
            if (block.some((seat) => isTaken(seat.index))) continue;
            let left = 0;
            while (s - left - 1 >= 0 && !isTaken(row.seats[s - left - 1]!.index)) left++;
            let right = 0;
            while (s + quantity + right < row.seats.length && !isTaken(row.seats[s + quantity + right]!.index)) right++;
            const key: [number, number, number] = [
              (left === 1 ? 1 : 0) + (right === 1 ? 1 : 0),
              r,
              Math.abs((block[0]!.x + block.at(-1)!.x) / 2 - centre),
            ];
            const wins =
              !best ||
              key[0] < best.key[0] ||
              (key[0] === best.key[0] && (key[1] < best.key[1] || (key[1] === best.key[1] && key[2] < best.key[2] - 1e-9)));
            if (wins) best = { key, choice: { sectionId: section.id, rowLabel: row.label, indexes: block.map((b) => b.index) } };
          }
        });
        if (best) return best.choice;
      }
      return undefined;
    }
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 300; round++) {
      const fill = random();
      const sections = [0, 1].map((n) => {
        const rows = Array.from({ length: 1 + Math.floor(random() * 8) }, () =>
          Array.from({ length: 1 + Math.floor(random() * 14) }, () => (random() < fill ? 'X' : '.')).join(''),
        );
        return draw(`s${n}`, 1000 * (1 + Math.floor(random() * 2)), rows, n, n * 1000);
      });
      const taken = new Set(sections.flatMap((s) => [...s.taken]));
      const isTaken = (i: number) => taken.has(i);
      for (const quantity of [1, 2, 3, 4]) {
        const expected = reference(
          sections.map((s) => s.section),
          isTaken,
          quantity,
        );
        assert.deepEqual(
          chooseBestAvailable(
            sections.map((s) => s.section),
            isTaken,
            quantity,
          ),
          expected,
          `round ${round}, quantity ${quantity}`,
        );
        // With rows numbered without gaps and a bound on their free seats — exact, or loose by up to
        // two (a bound only needs to be an upper one) — rows that cannot hold the block are passed
        // over without a seat-by-seat walk, and the choice is the same.
        const numbered = sections.map((s) => ({
          ...s.section,
          rows: s.section.rows.map((r) => ({ ...r, first: r.seats[0]?.index })),
        }));
        const exact = (first: number, count: number) => {
          let n = 0;
          for (let i = first; i < first + count; i++) if (!taken.has(i)) n += 1;
          return n;
        };
        const loose = (first: number, count: number) => exact(first, count) + (first % 3);
        for (const bound of [exact, loose]) {
          assert.deepEqual(
            chooseBestAvailable(numbered, isTaken, quantity, bound),
            expected,
            `round ${round}, quantity ${quantity}, ${bound.name}`,
          );
        }
      }
    }
  });

  it('asks a row with a bound on its free seats too few to hold the block nothing seat by seat', () => {
    const a = draw('A', 100, ['XXXXXXXX', 'XX.XX.XX', 'X....XXX']);
    const asked = new Set<number>();
    const rows = a.section.rows.map((r) => ({ ...r, first: r.seats[0]!.index }));
    const free = (first: number, count: number) => {
      let n = 0;
      for (let i = first; i < first + count; i++) if (!a.taken.has(i)) n += 1;
      return n;
    };
    const choice = chooseBestAvailable(
      [{ ...a.section, rows }],
      (i) => {
        asked.add(i);
        return a.taken.has(i);
      },
      3,
      free,
    );
    assert.equal(choice?.rowLabel, 'C');
    // Rows A (no free seat) and B (two, apart) were passed over on their bound alone.
    assert.deepEqual(
      [...asked].filter((i) => i < 16),
      [],
    );
  });
});
