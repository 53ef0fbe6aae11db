// Symbol visibility for the SDK's classes and the plugin's exports. A plugin is best built with
// -fvisibility=hidden (only its factory is then exported); the SDK's classes stay visible all the
// same, so that an exception thrown in the runner (PermissionDeniedError) is caught by type in the
// plugin: g++ compares the type_info of hidden types by address, which differs between the two.
#pragma once

#define CLASSTOP_VISIBLE __attribute__((visibility("default")))
