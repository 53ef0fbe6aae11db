"""The host API offered to a plugin (specification, "Plugin API"), with its names and signatures.

Every method is one call through the gateway; a refusal raises PermissionDeniedError or
PluginApiError. ``log_info`` / ``log_error`` (and the other log levels) are sync, as the
specification writes them: the line is sent in the background.
"""

import asyncio
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Set, Union

#: Sends one host API call: (api_name, payload) -> the decoded result; raises PluginApiError.
Caller = Callable[[str, Dict[str, Any]], Awaitable[Any]]
EventCallback = Callable[[Any], Union[None, Awaitable[None]]]

#: The SDK's method table: each host API's wire name -> (PluginAPI method, permission it needs).
#: tests/test_contract.py checks it against the host API catalogue (contract.json).
HOST_API_METHODS: Dict[str, tuple] = {
    "get_courses": ("get_courses", "read:courses"),
    "get_course": ("get_course", "read:courses"),
    "add_course": ("add_course", "modify:courses"),
    "update_course": ("update_course", "modify:courses"),
    "delete_course": ("delete_course", "modify:courses"),
    "add_courses_batch": ("add_courses_batch", "modify:courses"),
    "get_schedule_for_week": ("get_schedule_for_week", "read:schedules"),
    "get_current_week": ("get_current_week", "read:schedules"),
    "check_conflicts": ("check_conflicts", "read:schedules"),
    "add_schedule_entry": ("add_schedule_entry", "modify:schedules"),
    "delete_schedule_entry": ("delete_schedule_entry", "modify:schedules"),
    "emit_event": ("emit_event", "emit:events"),
    "get_setting": ("get_setting", "access:settings"),
    "set_setting": ("set_setting", "access:settings"),
    "get_all_settings": ("get_all_settings", "access:settings"),
    "get_plugin_data": ("get_plugin_data", None),
    "set_plugin_data": ("set_plugin_data", None),
    "delete_plugin_data": ("delete_plugin_data", None),
    "log_info": ("log_info", None),
    "log_warning": ("log_warning", None),
    "log_error": ("log_error", None),
    "log_debug": ("log_debug", None),
    "notify_shared_memory_ready": ("notify_shared_memory_ready", None),
}


@dataclass
class Course:
    id: int
    name: str
    teacher: Optional[str] = None
    location: Optional[str] = None
    color: Optional[str] = None

    @classmethod
    def from_json(cls, value: Dict[str, Any]) -> "Course":
        return cls(value["id"], value["name"], value.get("teacher"), value.get("location"), value.get("color"))


@dataclass
class ScheduleEntry:
    id: int
    course_id: int
    day_of_week: int
    start_time: str
    end_time: str
    weeks: List[int] = field(default_factory=list)
    note: Optional[str] = None

    @classmethod
    def from_json(cls, value: Dict[str, Any]) -> "ScheduleEntry":
        return cls(
            value["id"],
            value["course_id"],
            value["day_of_week"],
            value["start_time"],
            value["end_time"],
            list(value.get("weeks") or []),
            value.get("note"),
        )


def _new_course(course: Any) -> Dict[str, Any]:
    """A course to add, from a Course, a dict or any object with the fields."""
    source = course if isinstance(course, dict) else asdict(course) if isinstance(course, Course) else vars(course)
    return {key: source.get(key) for key in ("name", "teacher", "location", "color")}


class PluginAPI:
    """提供给插件的 API 接口: the host API, in snake_case."""

    def __init__(self, caller: Caller, events: Any, permissions: Iterable[str] = ()) -> None:
        self._caller = caller
        self.events = events
        self._permissions = frozenset(permissions)
        self._background: Set["asyncio.Task[Any]"] = set()

    def has_permission(self, permission: str) -> bool:
        """Whether the plugin holds ``permission`` (declared in plugin.yaml, granted at Register)."""
        return permission in self._permissions

    async def call(self, api_name: str, payload: Optional[Dict[str, Any]] = None) -> Any:
        """Calls any host API by its wire name with a JSON payload."""
        return await self._caller(api_name, payload or {})

    # ========== 课程服务 ==========
    async def get_courses(self, week: Optional[int] = None) -> List[Course]:
        """Every course, or with ``week`` those scheduled in that week."""
        found = await self.call("get_courses", {} if week is None else {"week": week})
        return [Course.from_json(c) for c in found or []]

    async def get_course(self, course_id: int) -> Course:
        return Course.from_json(await self.call("get_course", {"course_id": course_id}))

    async def add_course(
        self, name: str, teacher: Optional[str] = None, location: Optional[str] = None, color: Optional[str] = None
    ) -> int:
        return await self.call("add_course", {"name": name, "teacher": teacher, "location": location, "color": color})

    async def update_course(self, course_id: int, **changes: Any) -> Course:
        return Course.from_json(await self.call("update_course", {"course_id": course_id, **changes}))

    async def delete_course(self, course_id: int) -> bool:
        return await self.call("delete_course", {"course_id": course_id})

    async def add_courses_batch(self, courses: List[Any]) -> List[int]:
        """Adds all the courses in one round trip, all or none."""
        return await self.call("add_courses_batch", {"courses": [_new_course(c) for c in courses]})

    # ========== 日程服务 ==========
    async def get_schedule_for_week(self, week: int) -> Dict[int, List[ScheduleEntry]]:
        days = await self.call("get_schedule_for_week", {"week": week}) or {}
        return {int(day): [ScheduleEntry.from_json(e) for e in entries] for day, entries in days.items()}

    async def add_schedule_entry(
        self, course_id: int, day_of_week: int, start_time: str, end_time: str, weeks: Optional[List[int]] = None
    ) -> int:
        payload = {
            "course_id": course_id,
            "day_of_week": day_of_week,
            "start_time": start_time,
            "end_time": end_time,
            "weeks": list(weeks or []),
        }
        return await self.call("add_schedule_entry", payload)

    async def delete_schedule_entry(self, entry_id: int) -> bool:
        return await self.call("delete_schedule_entry", {"entry_id": entry_id})

    async def get_current_week(self) -> int:
        return await self.call("get_current_week")

    async def check_conflicts(
        self,
        day_of_week: int,
        start_time: str,
        end_time: str,
        weeks: Optional[List[int]] = None,
        exclude_entry_id: Optional[int] = None,
    ) -> List[ScheduleEntry]:
        payload = {"day_of_week": day_of_week, "start_time": start_time, "end_time": end_time, "weeks": list(weeks or [])}
        if exclude_entry_id is not None:
            payload["exclude_entry_id"] = exclude_entry_id
        return [ScheduleEntry.from_json(e) for e in await self.call("check_conflicts", payload) or []]

    # ========== 事件系统 ==========
    async def emit_event(self, event_name: str, data: Optional[Dict[str, Any]] = None) -> bool:
        """Emits ``event_name``; subscribers receive it as ``<this plugin's id>/<event_name>``."""
        return await self.call("emit_event", {"event_name": event_name, "data": {} if data is None else data})

    def on(self, event_name: str, callback: EventCallback) -> None:
        """Calls ``callback(data)`` (sync or async) for each ``event_name`` (``"*"``: every event)."""
        self.events.on(event_name, callback)

    def off(self, event_name: str, callback: EventCallback) -> None:
        self.events.off(event_name, callback)

    # ========== 存储服务 ==========
    async def get_setting(self, key: str) -> Optional[str]:
        return await self.call("get_setting", {"key": key})

    async def set_setting(self, key: str, value: str) -> bool:
        return await self.call("set_setting", {"key": key, "value": value})

    async def get_all_settings(self) -> Dict[str, str]:
        return await self.call("get_all_settings") or {}

    # ========== 插件私有存储 ==========
    async def get_plugin_data(self, key: str) -> Optional[Any]:
        return await self.call("get_plugin_data", {"key": key})

    async def set_plugin_data(self, key: str, value: Any) -> bool:
        return await self.call("set_plugin_data", {"key": key, "value": value})

    async def delete_plugin_data(self, key: str) -> bool:
        return await self.call("delete_plugin_data", {"key": key})

    # ========== 共享内存 ==========
    async def notify_shared_memory_ready(self, name: str, size: int) -> bool:
        """Announces a region of the plugin's /dev/shm as ready for the host."""
        return await self.call("notify_shared_memory_ready", {"name": name, "size": size})

    # ========== 日志服务 (sync, as the specification writes them) ==========
    def log_info(self, message: str) -> None:
        self._log("log_info", message)

    def log_warning(self, message: str) -> None:
        self._log("log_warning", message)

    def log_error(self, message: str) -> None:
        self._log("log_error", message)

    def log_debug(self, message: str) -> None:
        self._log("log_debug", message)

    async def flush_logs(self) -> None:
        """Waits until every log line sent so far reached the host."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def _log(self, api_name: str, message: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # Outside the event loop (e.g. at import): the container's output reaches the host log.
            print(f"[{api_name}] {message}", file=sys.stderr, flush=True)
            return
        task = loop.create_task(self._send_log(api_name, message))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _send_log(self, api_name: str, message: str) -> None:
        try:
            await self.call(api_name, {"message": message})
        except Exception as err:  # noqa: BLE001 - a lost log line must not fail the plugin
            print(f"[classtop-sdk] {api_name} failed: {err}; line: {message}", file=sys.stderr, flush=True)
