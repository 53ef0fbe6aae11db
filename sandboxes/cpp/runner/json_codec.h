// The SDK's types to and from the JSON the host API speaks (the catalogue's resultShapes).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "classtop/types.h"

namespace classtop::runner {

using Json = nlohmann::json;

/** Parses a host result; an unparsable one is a PluginApiError (INTERNAL_ERROR) naming the API. */
Json ParseResult(const std::string& api_name, const std::string& text);

Course CourseFromJson(const Json& value);
ScheduleEntry ScheduleEntryFromJson(const Json& value);
std::vector<Course> CoursesFromJson(const Json& value);
std::vector<ScheduleEntry> EntriesFromJson(const Json& value);
/** A course to add: its name, and its optional texts as null when empty. */
Json NewCourseJson(const Course& course);
/** An optional text: "" is null on the wire. */
Json OptionalText(const std::string& text);
/** A string as it is, any other JSON value as its text, null (or nothing) as "". */
std::string TextOf(const Json& value);

}  // namespace classtop::runner
