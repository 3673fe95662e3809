// Sanitizer builds only (gui/CMakeLists.txt): dlclose does nothing, so every library stays loaded.
// LeakSanitizer checks at exit, after the OpenGL driver that Mesa opened with dlopen has been closed:
// the driver's memory, still pointed to from its own globals, would then be reported as leaked from
// "<unknown module>". Kept loaded, it stays reachable, and no suppression list is needed.
extern "C" int dlclose(void*) noexcept { return 0; }
