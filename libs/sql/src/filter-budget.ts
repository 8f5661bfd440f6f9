// A CPU budget for evaluating live filters (issue 10): the evaluator charges its work (a step
// per comparison, a step per character LIKE compares or a text comparison reads) to a meter,
// and a meter that runs out throws FilterBudgetExceeded. The gateway gives each change one
// meter per subscription, so a filter that would keep the event loop busy ends its own
// subscription instead of stalling every client of the gateway.

export interface Meter {
  /** Charges `steps`; throws FilterBudgetExceeded once the budget is spent. */
  spend(steps: number): void;
}

export class FilterBudgetExceeded extends Error {
  override readonly name = 'FilterBudgetExceeded';
  readonly budget: number;

  constructor(budget: number) {
    super(`evaluating the subscription's filter on one change took more than ${budget} steps`);
    this.budget = budget;
  }
}

/** No limit: storage's catch-up and tests. */
export const UNMETERED: Meter = { spend: () => {} };

/** A meter of `budget` steps. */
export function meter(budget: number): Meter {
  let left = budget;
  return {
    spend(steps) {
      left -= steps;
      if (left < 0) throw new FilterBudgetExceeded(budget);
    },
  };
}
