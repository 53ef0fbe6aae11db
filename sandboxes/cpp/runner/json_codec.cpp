#include "json_codec.h"

#include "classtop/exceptions.h"

namespace classtop::runner {

namespace {

std::string StringOr(const Json& value, const char* key) {
    auto found = value.find(key);
    return found != value.end() && found->is_string() ? found->get<std::string>() : std::string();
}

int IntOr(const Json& value, const char* key) {
    auto found = value.find(key);
    return found != value.end() && found->is_number_integer() ? found->get<int>() : 0;
}

}  // namespace

Json ParseResult(const std::string& api_name, const std::string& text) {
    if (text.empty()) return Json();
    try {
        return Json::parse(text);
    } catch (const Json::exception& err) {
        throw PluginApiError("INTERNAL_ERROR", api_name, std::string("the host's result is not JSON: ") + err.what());
    }
}

Course CourseFromJson(const Json& value) {
    if (!value.is_object()) throw PluginApiError("INTERNAL_ERROR", "", "expected a course object from the host");
    Course course;
    course.id = IntOr(value, "id");
    course.name = StringOr(value, "name");
    course.teacher = StringOr(value, "teacher");
    course.location = StringOr(value, "location");
    course.color = StringOr(value, "color");
    return course;
}

ScheduleEntry ScheduleEntryFromJson(const Json& value) {
    if (!value.is_object()) throw PluginApiError("INTERNAL_ERROR", "", "expected a schedule entry from the host");
    ScheduleEntry entry;
    entry.id = IntOr(value, "id");
    entry.course_id = IntOr(value, "course_id");
    entry.day_of_week = IntOr(value, "day_of_week");
    entry.start_time = StringOr(value, "start_time");
    entry.end_time = StringOr(value, "end_time");
    auto weeks = value.find("weeks");
    if (weeks != value.end() && weeks->is_array()) {
        for (const auto& week : *weeks) {
            if (week.is_number_integer()) entry.weeks.push_back(week.get<int>());
        }
    }
    entry.note = StringOr(value, "note");
    return entry;
}

std::vector<Course> CoursesFromJson(const Json& value) {
    std::vector<Course> courses;
    if (value.is_array()) {
        for (const auto& item : value) courses.push_back(CourseFromJson(item));
    }
    return courses;
}

std::vector<ScheduleEntry> EntriesFromJson(const Json& value) {
    std::vector<ScheduleEntry> entries;
    if (value.is_array()) {
        for (const auto& item : value) entries.push_back(ScheduleEntryFromJson(item));
    }
    return entries;
}

Json OptionalText(const std::string& text) { return text.empty() ? Json() : Json(text); }

Json NewCourseJson(const Course& course) {
    return {{"name", course.name},
            {"teacher", OptionalText(course.teacher)},
            {"location", OptionalText(course.location)},
            {"color", OptionalText(course.color)}};
}

std::string TextOf(const Json& value) {
    if (value.is_null()) return "";
    if (value.is_string()) return value.get<std::string>();
    return value.dump();
}

}  // namespace classtop::runner
