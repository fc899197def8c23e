/**
 * Plans stacks in a child process (run with tsx), for programs that fail inside an apply: such
 * failures surface as unhandled rejections, which jest would pin on the test. Prints one JSON
 * result per request: `{ ok: true, outputs, resources }` or `{ ok: false, message }`. Runs the
 * requests one after another in one process, with planStack's default loader (requireFresh).
 */
import { planStack, type PlanOptions } from "../../tools/offline";
import { errorMessage } from "../../tools/common/guards";

export interface ChildPlanRequest {
  readonly stack: string;
  readonly options: Omit<PlanOptions, "load">;
}

export type ChildPlanResult =
  | {
      readonly ok: true;
      readonly outputs: Record<string, unknown>;
      /** `type::name` of every registered resource. */
      readonly resources: string[];
    }
  | { readonly ok: false; readonly message: string };

async function main(requests: readonly ChildPlanRequest[]): Promise<void> {
  const results: ChildPlanResult[] = [];
  for (const request of requests) {
    try {
      const plan = await planStack(request.stack, request.options);
      results.push({
        ok: true,
        outputs: plan.outputs,
        resources: plan.resources.map((r) => `${r.type}::${r.name}`),
      });
    } catch (error: unknown) {
      results.push({ ok: false, message: errorMessage(error) });
    }
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
  process.exit(0);
}

if (require.main === module) {
  void main(JSON.parse(process.argv[2] ?? "[]") as ChildPlanRequest[]);
}
