# plugins/study_planner/plugin.py: a ClassTop plugin that uses most of the host API.
# It adds the courses of config.json in one batch, places each in its weekly slot unless the slot
# clashes, books extra sessions around conflicts, follows course and schedule updates, and keeps
# its counts across hot reloads (on_save / on_restore).

from classtop.plugin_system.base import Plugin, export
from classtop.plugin_system.exceptions import PermissionDeniedError, PluginApiError

THEME_SETTING = "study_planner.theme"
#: Plugin data: {course name: id} of the courses this plugin added.
COURSE_IDS = "course_ids"
#: Plugin data: what the last plan_week did.
LAST_PLAN = "last_plan"
COURSE_FIELDS = ("name", "teacher", "location", "color")


class StudyPlanner(Plugin):
    """学习计划插件"""

    async def on_restore(self, state):
        """热重载: the state the previous version's on_save returned."""
        self.state = {**state, "reloads": state.get("reloads", 0) + 1}

    async def on_save(self):
        return self.state

    async def on_enable(self):
        api = self.plugin_api
        self.state["enables"] = self.state.get("enables", 0) + 1
        self.state.setdefault("reloads", 0)
        self.state.setdefault("events_seen", {"course_update": 0, "schedule_update": 0})
        self.theme = await self.load_theme()
        try:
            self.week = await api.get_current_week()
        except PluginApiError as e:
            api.log_error(f"API error: {e}")
            self.week = 1
        api.on("course_update", self.on_course_update)
        api.on("schedule_update", self.on_schedule_update)
        await api.emit_event("planner_ready", {"week": self.week, "theme": self.theme})
        api.log_info(f"study planner enabled (time {self.state['enables']}): week {self.week}, theme {self.theme}")

    async def on_disable(self):
        self.plugin_api.off("course_update", self.on_course_update)
        self.plugin_api.off("schedule_update", self.on_schedule_update)
        self.plugin_api.log_info("study planner disabled")

    def on_course_update(self, data):
        self.state["events_seen"]["course_update"] += 1

    async def on_schedule_update(self, data):
        self.state["events_seen"]["schedule_update"] += 1

    async def load_theme(self):
        """The user's theme setting; set from config.json the first time. Without access:settings, config.json's."""
        api = self.plugin_api
        default = self.config.get("theme", "light")
        try:
            theme = await api.get_setting(THEME_SETTING)
            if theme is None:
                await api.set_setting(THEME_SETTING, default)
                theme = default
            return theme
        except PermissionDeniedError:
            api.log_error("Permission denied to read settings; using the theme of config.json")
            return default

    @export
    async def plan_week(self, data):
        """Adds config.json's courses, places each in its slot unless it clashes; returns the week's plan."""
        api = self.plugin_api
        week = (data or {}).get("week") or self.week
        ids = await self.ensure_courses()
        slots = [await self.place(ids[c["name"]], c) for c in self.config.get("courses", [])]
        schedule = await api.get_schedule_for_week(week)
        plan = {
            "week": week,
            "courses": ids,
            "slots": slots,
            "entries_per_day": {str(day): len(entries) for day, entries in sorted(schedule.items()) if entries},
        }
        await api.set_plugin_data(LAST_PLAN, plan)
        await api.emit_event("week_planned", plan)
        return plan

    @export
    async def book(self, data):
        """Books an extra session {name, day_of_week, start_time, end_time[, weeks]} unless it clashes."""
        api = self.plugin_api
        try:
            name, day = data["name"], int(data["day_of_week"])
            start, end = data["start_time"], data["end_time"]
        except (TypeError, KeyError, ValueError) as err:
            raise PluginApiError("INVALID_REQUEST", "book", f"give name, day_of_week, start_time, end_time ({err!r})")
        weeks = data.get("weeks") or self.config.get("weeks", [])
        course = next((c for c in await api.get_courses() if c.name == name), None)
        if course is None:
            raise PluginApiError("NOT_FOUND", "book", f"no course named {name!r}; run plan_week first")
        try:
            conflicts = await api.check_conflicts(day, start, end, weeks)
            if conflicts:
                names = {c.id: c.name for c in await api.get_courses()}
                return {"booked": False, "conflicts": [self.describe(e, names) for e in conflicts]}
            return {"booked": True, "entry_id": await api.add_schedule_entry(course.id, day, start, end, weeks)}
        except PluginApiError as e:
            api.log_error(f"API error: {e}")
            return {"booked": False, "refused": e.code, "reason": e.reason}

    @export
    async def unbook(self, data):
        """Removes a session that book added: {entry_id}."""
        return {"removed": await self.plugin_api.delete_schedule_entry(int((data or {}).get("entry_id", 0)))}

    @export
    async def report(self, _data):
        """What the planner knows: its state, theme and week, and its last plan (plugin data)."""
        return {
            "state": self.state,
            "theme": self.theme,
            "week": self.week,
            "last_plan": await self.plugin_api.get_plugin_data(LAST_PLAN),
        }

    async def ensure_courses(self):
        """The ids of config.json's courses; the missing ones are added in one round trip (add_courses_batch)."""
        api = self.plugin_api
        known = await api.get_plugin_data(COURSE_IDS) or {}
        for name, course_id in list(known.items()):
            try:
                await api.get_course(course_id)
            except PluginApiError as e:
                if e.code != "NOT_FOUND":
                    raise
                api.log_info(f"course {name} was deleted; adding it again")
                del known[name]
        missing = [c for c in self.config.get("courses", []) if c["name"] not in known]
        if missing:
            added = await api.add_courses_batch([{k: c.get(k) for k in COURSE_FIELDS} for c in missing])
            known.update({c["name"]: course_id for c, course_id in zip(missing, added)})
            await api.set_plugin_data(COURSE_IDS, known)
        return known

    async def place(self, course_id, course):
        """Adds the course's weekly entry, unless it is there already or the slot clashes with another course."""
        api = self.plugin_api
        slot = course["slot"]
        weeks = self.config.get("weeks", [])
        day, start, end = slot["day_of_week"], slot["start_time"], slot["end_time"]
        conflicts = await api.check_conflicts(day, start, end, weeks)
        if any(e.course_id == course_id for e in conflicts):
            return {"name": course["name"], "status": "already placed"}
        if conflicts:
            return {"name": course["name"], "status": "clash", "with": sorted({e.course_id for e in conflicts})}
        entry_id = await api.add_schedule_entry(course_id, day, start, end, weeks)
        return {"name": course["name"], "status": "placed", "entry_id": entry_id}

    @staticmethod
    def describe(entry, names):
        return {
            "course": names.get(entry.course_id, entry.course_id),
            "day_of_week": entry.day_of_week,
            "start_time": entry.start_time,
            "end_time": entry.end_time,
        }
