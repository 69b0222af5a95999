#include "cli/app.h"

int main(int argc, char** argv) {
  return dtrain::cli::run_app(argc, argv);
}
