#pragma once
// OpenGL 3.3 core entry points: Debian's libGL (glvnd) exports them, so the prototypes suffice.
#ifndef GL_GLEXT_PROTOTYPES
#define GL_GLEXT_PROTOTYPES
#endif
#include <GL/glcorearb.h>
