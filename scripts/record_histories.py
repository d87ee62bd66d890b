"""Save the histories of finished PaymentWorkflow, RefundWorkflow and WebhookDeliveryWorkflow runs
as JSON for the replay test.

usage: python scripts/record_histories.py --temporal 127.0.0.1:7233 [--out tests/workflows/histories] [--limit 10]
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib

from temporalio.client import Client

WORKFLOW_TYPES = ("PaymentWorkflow", "RefundWorkflow", "WebhookDeliveryWorkflow")
ROOT = pathlib.Path(__file__).resolve().parent.parent


async def record(address: str, out: pathlib.Path, limit: int) -> None:
    client = await Client.connect(address)
    out.mkdir(parents=True, exist_ok=True)
    for workflow_type in WORKFLOW_TYPES:
        query = f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Completed'"
        saved = 0
        async for execution in client.list_workflows(query):
            history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
            (out / f"{execution.id}.json").write_text(history.to_json())
            saved += 1
            if saved >= limit:
                break
        print(f"saved {saved} {workflow_type} histories to {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--temporal", required=True)
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "tests" / "workflows" / "histories")
    ap.add_argument("--limit", type=int, default=10)
    args = ap.parse_args()
    asyncio.run(record(args.temporal, args.out, args.limit))


if __name__ == "__main__":
    main()
