# Every third-party dependency, found once. Package names are Debian bookworm's (scripts/setup).
find_package(Threads REQUIRED)
find_package(Boost 1.81 CONFIG REQUIRED COMPONENTS system)
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(tomlplusplus CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(tl-expected CONFIG REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(LibArchive REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
# NATS (libnats-dev): XIS instances share adverts through a JetStream bucket (xis/nats_advert_bus.h).
# Through pkg-config: Debian's cnats CMake package names a static library it does not ship.
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)
