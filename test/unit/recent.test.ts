/** What a process changed a moment ago is read live when listing, whatever Visibility says yet. */
import { mergeTouched, recentlyTouched } from '../../src/client/recent';

describe('recentlyTouched', () => {
  test('keeps an id for the window after its last touch, oldest first', () => {
    const recent = recentlyTouched(1_000);
    recent.touch('a', 0);
    recent.touch('b', 500);
    recent.touch('a', 900); // touched again: it moves to the end and its window starts over
    expect(recent.ids(1_000)).toEqual(['b', 'a']);
    expect(recent.ids(1_600)).toEqual(['a']);
    expect(recent.entries(1_900)).toEqual([['a', 900]]);
    expect(recent.ids(1_901)).toEqual([]);
  });
});

describe('mergeTouched', () => {
  const listed = [
    { id: 'g3', row: 'indexed g3' },
    { id: 'g2', row: 'indexed g2' },
    { id: 'g1', row: 'indexed g1' },
  ];

  test('a touched row is read live: its indexed form, which may be stale, is dropped', () => {
    expect(mergeTouched(listed, ['g2'])).toEqual([
      { id: 'g3', row: 'indexed g3' },
      { id: 'g2' },
      { id: 'g1', row: 'indexed g1' },
    ]);
  });

  test('touched ids Visibility does not list yet come first, the newest first, each once', () => {
    expect(mergeTouched(listed, ['g4', 'g1', 'g5'])).toEqual([
      { id: 'g5' },
      { id: 'g4' },
      { id: 'g3', row: 'indexed g3' },
      { id: 'g2', row: 'indexed g2' },
      { id: 'g1' },
    ]);
  });

  test('only the newest touched ids are read live: many changes at once are listed from Visibility', () => {
    expect(mergeTouched(listed, ['g1', 'g4', 'g2'], 2)).toEqual([
      { id: 'g4' },
      { id: 'g3', row: 'indexed g3' },
      { id: 'g2' },
      { id: 'g1', row: 'indexed g1' },
    ]);
  });

  test('with nothing touched the rows are as listed', () => {
    expect(mergeTouched(listed, [])).toEqual(listed);
  });
});
