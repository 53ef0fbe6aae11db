# plugins/example_plugin/plugin.py: the specification's ExamplePlugin, unmodified, plus the
# specification's process_data ("直接调用"), exported for the host by the `exports` list.

from tauri_app.plugin_system.base import Plugin

class ExamplePlugin(Plugin):
    """示例插件"""

    exports = ["process_data"]

    async def on_enable(self):
        """启用时初始化"""
        self.plugin_api.log_info("Example plugin enabled")

        # 监听事件
        self.plugin_api.on("schedule_update", self.on_schedule_update)

    async def on_disable(self):
        """禁用时清理"""
        self.plugin_api.log_info("Example plugin disabled")

        # 取消监听
        self.plugin_api.off("schedule_update", self.on_schedule_update)

    async def on_schedule_update(self, data):
        """处理日程更新事件"""
        self.plugin_api.log_info(f"Schedule updated: {data}")

        # 获取课程数据
        courses = await self.plugin_api.get_courses()
        self.plugin_api.log_info(f"Total courses: {len(courses)}")

    async def process_data(self, data: dict) -> dict:
        # 直接被主应用调用 (here: through the admin API, `classtop-sandbox call`)
        result = {"keys": sorted(data or {}), "config": self.config}
        return {"status": "ok", "result": result}
