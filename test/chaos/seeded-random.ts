// A seeded generator (mulberry32): the same CHAOS_SEED gives the same payment mix and the
// same moments of failure, so a failing run can be repeated.

export type Random = () => number;

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An integer in [min, max]. */
export const between = (random: Random, min: number, max: number): number =>
  min + Math.floor(random() * (max - min + 1));

/** One of `choices`, each as likely as its weight. */
export function weighted<T>(random: Random, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [choice, weight] of choices) {
    roll -= weight;
    if (roll < 0) return choice;
  }
  return (choices.at(-1) as readonly [T, number])[0];
}

/** The run's seed: CHAOS_SEED when set (a failure prints it), otherwise a fresh one. */
export function chaosSeed(): number {
  const raw = process.env.CHAOS_SEED;
  if (raw !== undefined && raw.trim() !== '') {
    const seed = Number(raw);
    if (!Number.isInteger(seed)) throw new Error(`CHAOS_SEED must be an integer, got ${raw}`);
    return seed;
  }
  return Math.floor(Math.random() * 2 ** 31);
}
