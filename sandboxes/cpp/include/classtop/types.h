// The host's data types, as the ClassTop specification's C++ plugin API names them.
// Fields follow the host API catalogue's result shapes (src/protocol/generated/contract.json,
// resultShapes): an optional text the host leaves out is an empty string here.
#pragma once

#include <string>
#include <vector>

namespace classtop {

/** A course (get_courses, get_course, update_course). */
struct Course {
    int id = 0;
    std::string name;
    std::string teacher;   // "" when the host has none
    std::string location;  // "" when the host has none
    std::string color;     // "#RRGGBB", or "" when the host has none
};

/** A schedule entry (get_schedule_for_week, check_conflicts). */
struct ScheduleEntry {
    int id = 0;
    int course_id = 0;
    int day_of_week = 0;     // 1 (Monday) .. 7 (Sunday)
    std::string start_time;  // "HH:MM"
    std::string end_time;    // "HH:MM"
    std::vector<int> weeks;  // the teaching weeks it is held in; empty: every week
    std::string note;        // "" when the host has none
};

}  // namespace classtop
