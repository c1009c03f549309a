#include "cli/cli.h"

int main(int argc, char** argv) { return xop::run_cli(argc, argv); }
