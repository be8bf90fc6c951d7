"""Opening room-sessions one at a time while keeping every hard rule: a free room of the class,
its crew from eligible staff groups within their per-session and weekly limits, and enough
radiologists on site. Used by the greedy baseline and by LP rounding; knows nothing of demand."""

from __future__ import annotations

import math

import numpy as np

from optimiser.instance import MODALITIES, Instance
from optimiser.staff_split import StaffSplit


class StaffLedger:
    def __init__(self, instance: Instance, allow_overtime: bool = True,
                 split: StaffSplit | None = None) -> None:
        """With a split, each modality also keeps within its share of every group."""
        self.instance = instance
        self.split = None
        if split is not None:
            self.split = StaffSplit(split.session.copy(), split.daytime.copy(),
                                    split.total.copy())
        self.x = np.zeros(len(instance.option_class), dtype=int)
        self.z = np.zeros(len(instance.flow_need), dtype=int)
        self.left = instance.group_available.copy()
        self.used_total = np.zeros(len(instance.groups))
        self.used_day = np.zeros(len(instance.groups))
        overtime = instance.group_overtime if allow_overtime else 0.0
        self.total_limit = instance.group_contracted + overtime
        self.class_open: dict[int, int] = {}
        self.rad_share = np.zeros(len(instance.needs))
        self.rad_people = np.zeros(len(instance.needs), dtype=int)
        self._flow = {(int(n), int(g)): f for f, (n, g)
                      in enumerate(zip(instance.flow_need, instance.flow_group, strict=True))}
        self._key = instance.option_class_time
        self._sizes = np.array([c.size for c in instance.classes], dtype=int)

    def rooms_free(self, option: int) -> int:
        key = int(self._key[option])
        return int(self._sizes[self.instance.option_class[option]]) - self.class_open.get(key, 0)

    def open(self, option: int) -> bool:
        """Open one more room on this option if a room and staff allow; False changes nothing."""
        inst = self.instance
        if self.rooms_free(option) <= 0:
            return False
        taken: list[tuple[int, int]] = []
        if not self._take(int(inst.option_crew_need[option]), int(inst.option_crew[option]),
                          taken):
            return self._undo(taken)
        rad_need = int(inst.option_rad_need[option])
        if rad_need >= 0:
            share = self.rad_share[rad_need] + inst.option_rad_share[option]
            extra = math.ceil(share - 1e-9) - self.rad_people[rad_need]
            if extra > 0 and not self._take(rad_need, extra, taken):
                return self._undo(taken)
            self.rad_share[rad_need] = share
            self.rad_people[rad_need] += max(0, extra)
        self.x[option] += 1
        key = int(self._key[option])
        self.class_open[key] = self.class_open.get(key, 0) + 1
        return True

    def group_slack(self, group: int, t: int, modality: int) -> float:
        """People of the group who could still be rostered in session t for a modality."""
        weekly = self.total_limit[group] - self.used_total[group]
        daytime = not self.instance.time_offpeak[t]
        if daytime:
            weekly = min(weekly, self.instance.group_contracted[group] - self.used_day[group])
        slack = min(self.left[group, t], weekly)
        if self.split is not None:
            slack = min(slack, self.split.session[modality, group, t],
                        self.split.total[modality, group])
            if daytime:
                slack = min(slack, self.split.daytime[modality, group])
        return max(0.0, slack)

    def _take(self, need: int, people: int, taken: list[tuple[int, int]]) -> bool:
        t = self.instance.needs[need].t
        modality = MODALITIES.index(self.instance.needs[need].modality)
        for group in self._preference(need, t, modality):
            if people == 0:
                break
            give = int(min(people, self.group_slack(group, t, modality)))
            if give > 0:
                self._book(need, group, t, give)
                taken.append((self._flow[(need, group)], give))
                people -= give
        return people == 0

    def _book(self, need: int, group: int, t: int, people: int) -> None:
        self.z[self._flow[(need, group)]] += people
        self.left[group, t] -= people
        self.used_total[group] += people
        daytime = not self.instance.time_offpeak[t]
        if daytime:
            self.used_day[group] += people
        if self.split is not None:
            modality = MODALITIES.index(self.instance.needs[need].modality)
            self.split.session[modality, group, t] -= people
            self.split.total[modality, group] -= people
            if daytime:
                self.split.daytime[modality, group] -= people

    def _undo(self, taken: list[tuple[int, int]]) -> bool:
        for flow, people in taken:
            group = int(self.instance.flow_group[flow])
            t = self.instance.needs[int(self.instance.flow_need[flow])].t
            self._book(int(self.instance.flow_need[flow]), group, t, -people)
        return False

    def _preference(self, need: int, t: int, modality: int) -> list[int]:
        """Daytime: groups who cannot work off-peak first, keeping the others for evenings and
        weekends; then specialists (fewer skills) before generalists; then the most slack."""
        groups = self.instance.groups

        def key(g: int) -> tuple:
            flexible = groups[g].works_evenings or groups[g].works_weekends
            return (flexible, len(groups[g].skills), -self.group_slack(g, t, modality))

        return sorted(self.instance.need_groups[need], key=key)
