"""The checkout session expiry, run by its timer (and by the sweep for a session whose
timer never started: a crash between the session's commit and the timer's start)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.common.errors import FailedPrecondition
from services.order.checkout import repository
from services.order.checkout.domain import CheckoutStatus, check_no_payment_in_flight
from services.order.checkout.workflow import EXPIRE_ACTIVITY, PAYMENT_IN_FLIGHT
from services.order.models import CheckoutSessionRow

OVERDUE_BATCH = 100


async def expire_session(sessions: async_sessionmaker[AsyncSession], session_id: str) -> bool:
    """Expires the session if it is still OPEN; whether this call expired it. Raises
    FailedPrecondition CHECKOUT_SESSION_PAYMENT_IN_FLIGHT while its order is paying."""
    async with sessions.begin() as session:
        row = await repository.session_row_or_raise(session=session, session_id=session_id)
        order = await repository.order_of(session=session, row=row, for_update=True)
        await session.refresh(row, with_for_update=True)
        if row.status != CheckoutStatus.OPEN.value:
            return False
        check_no_payment_in_flight(order.status)
        repository.close(row, CheckoutStatus.EXPIRED)
    return True


async def overdue_sessions(sessions: async_sessionmaker[AsyncSession], grace_seconds: float) -> list[str]:
    """OPEN sessions whose expiry passed more than `grace_seconds` ago."""
    async with sessions() as session:
        due = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, grace_seconds)
        return list(
            await session.scalars(
                select(CheckoutSessionRow.id)
                .where(CheckoutSessionRow.status == CheckoutStatus.OPEN.value, CheckoutSessionRow.expires_at < due)
                .order_by(CheckoutSessionRow.expires_at)
                .limit(OVERDUE_BATCH)
            )
        )


class CheckoutActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name=EXPIRE_ACTIVITY)
    async def expire(self, session_id: str) -> str:
        """What the timer did: "expired" the session, or found it "closed already"."""
        try:
            return "expired" if await expire_session(self.sessions, session_id) else "closed already"
        except FailedPrecondition as busy:
            raise ApplicationError(busy.message, type=PAYMENT_IN_FLIGHT) from None
