#pragma once
// Tests that run several CPU ranks need Gloo, which a build against PyTorch's pip LibTorch lacks
// (its wheels ship no Gloo headers). There they skip, saying why, instead of failing on a build
// that cannot do what they test; the Debian (CI) build always has Gloo and runs them.

#include <gtest/gtest.h>

#include "dist/communicator.h"

#define GENOLM_REQUIRE_GLOO()                                                                   \
  if (!genolm::dist::gloo_available())                                                          \
  GTEST_SKIP() << "this build's LibTorch ships no Gloo headers (PyTorch's pip wheels): it has " \
                  "no backend for several CPU processes"
