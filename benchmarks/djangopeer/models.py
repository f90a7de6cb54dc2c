"""The peer's model: govflow's issue-list states and main-line transitions in django-fsm-2."""

from django.db import models
from django_fsm import FSMField, transition


class Issue(models.Model):
    """One problem-list item, as a Django team would model it."""

    title = models.CharField(max_length=200)
    lead = models.CharField(max_length=64, db_index=True)
    due = models.DateField()
    state = FSMField(default="assigned", db_index=True)
    rework_count = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    @transition(field=state, source="assigned", target="implemented")
    def implement(self) -> None:
        """落实."""

    @transition(field=state, source="implemented", target="feedback")
    def report(self) -> None:
        """反馈."""

    @transition(field=state, source="feedback", target="assigned")
    def reject(self) -> None:
        """退回重办: counts a rework."""
        self.rework_count += 1

    @transition(field=state, source="feedback", target="verified")
    def verify(self) -> None:
        """验收销号."""

    @transition(field=state, source=["assigned", "implemented", "feedback"], target="cancelled")
    def cancel(self) -> None:
        """撤销."""
