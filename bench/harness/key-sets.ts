/**
 * Readers over rotating key sets, for read benchmarks that interleave a figure with its baseline. Each
 * reader calls `fn` on its next set every time, so every variant reads the same sequence of sets; each
 * reader starts 17 sets after the one made before it, so no call reads the keys the call just before it
 * (its partner's) pulled into the CPU caches, which would flatter whichever runs second.
 */
export function keySetReaders(
  defaultSets: readonly string[][],
): <T>(fn: (keys: string[]) => T, sets?: readonly string[][]) => () => T {
  let first = 0;
  return (fn, sets = defaultSets) => {
    let n = first;
    first += 17;
    return () => fn(sets[n++ % sets.length] as string[]);
  };
}
