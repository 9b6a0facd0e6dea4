#!/bin/sh
# The Debian package that `cpack -G DEB` makes from this build: it declares its Debian
# dependencies, installs into /usr with dpkg -i, a consumer's find_package(tapegrad) then works
# with no prefix path, and dpkg -r removes it again. Installing system-wide is done only as root
# and only when no libtapegrad-dev is installed already (one that is stays untouched); otherwise
# the test is skipped (exit 77) after checking the package's contents.
# usage: deb_package.sh BUILD_DIR WORK_DIR CONSUMER_SOURCE_DIR
set -u
build=$1
work=$2
consumer=$3
package=libtapegrad-dev
rm -rf "$work" && mkdir -p "$work" || exit 1
fail() { echo "deb_package: $*"; exit 1; }

(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake") > "$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack -G DEB failed"; }
deb=$(ls "$work"/*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "cpack made no .deb"
echo "built $(basename "$deb"):"
dpkg-deb -f "$deb" Package Version Architecture Section Depends Suggests
depends=$(dpkg-deb -f "$deb" Depends)
for dependency in libopenblas-dev libfmt-dev zlib1g-dev nlohmann-json3-dev; do
  echo "$depends" | grep -q "$dependency" || fail "Depends does not name $dependency: $depends"
done
dpkg-deb -c "$deb" > "$work/contents.txt"
for file in ./usr/include/tapegrad.hpp 'cmake/tapegrad/tapegradConfig.cmake' 'libtapegrad_autograd.a'; do
  grep -q "$file" "$work/contents.txt" || fail "the package holds no $file"
done
grep -q ' \./usr/local/' "$work/contents.txt" && fail "files under /usr/local in the package"
echo "contents: $(grep -c -v '/$' "$work/contents.txt") files under /usr"

if [ "$(id -u)" -ne 0 ]; then echo "not root: dpkg -i skipped"; exit 77; fi
if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
  echo "$package is installed already: left alone, dpkg -i skipped"; exit 77
fi
dpkg -i "$deb" > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; dpkg -r "$package" >/dev/null 2>&1; fail "dpkg -i failed"; }
echo "dpkg -i: $(dpkg-query -W -f='${Package} ${Version} ${Status}' "$package")"
# From here on the package is removed however the test ends.
trap 'dpkg -r "$package" > "$work/remove.log" 2>&1' EXIT

# No CMAKE_PREFIX_PATH, no tapegrad_DIR: the default search must find /usr's package.
env -u CMAKE_PREFIX_PATH -u tapegrad_DIR cmake -S "$consumer" -B "$work/consumer-build" \
  -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; fail "the consumer did not configure"; }
grep -q 'tapegrad_DIR:PATH=/usr/lib' "$work/consumer-build/CMakeCache.txt" ||
  fail "find_package did not find the package under /usr: $(grep tapegrad_DIR "$work/consumer-build/CMakeCache.txt")"
echo "find_package(tapegrad): $(grep 'tapegrad_DIR:PATH' "$work/consumer-build/CMakeCache.txt")"
cmake --build "$work/consumer-build" > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "the consumer did not build"; }
"$work/consumer-build/consumer" || fail "consumer failed"
"$work/consumer-build/consumer_data" || fail "consumer_data failed"

trap - EXIT
dpkg -r "$package" > "$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "dpkg -r failed"; }
[ ! -e /usr/include/tapegrad.hpp ] || fail "/usr/include/tapegrad.hpp is still there after dpkg -r"
echo "dpkg -r: removed; deb package: installed into /usr, found with no prefix path, consumed, removed"
