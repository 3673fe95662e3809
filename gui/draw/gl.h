#pragma once
// OpenGL 3.3 core entry points: Debian's libGL (glvnd) exports them, so the prototypes suffice. In the
// browser, OpenGL ES 3.0 (WebGL2), which has every call the window makes.
#ifdef __EMSCRIPTEN__
#include <GLES3/gl3.h>
#else
#ifndef GL_GLEXT_PROTOTYPES
#define GL_GLEXT_PROTOTYPES
#endif
#include <GL/glcorearb.h>
#endif
