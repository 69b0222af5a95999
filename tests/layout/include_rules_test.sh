#!/usr/bin/env bash
# The dependency order of docs/design.md "Layout", checked on every #include "..." under src/:
# a module may include only itself and the modules listed for it here. A new arrow upward
# (say, nn including train, or train including comm/mpi) fails this test instead of quietly
# tangling the tree. Usage: include_rules_test.sh SOURCE_DIR
set -euo pipefail
src="$1/src"
declare -A allowed=(
  [core]="core"
  [tensor]="core tensor"
  [nn]="core tensor nn"
  [optim]="core tensor nn optim"
  [data]="core data"
  [comm]="core comm"
  [comm/liveness]="core comm comm/liveness"
  [comm/collectives]="core comm comm/collectives"
  [comm/sync]="core comm comm/liveness comm/sync"
  [comm/mpi]="core comm comm/liveness comm/collectives comm/mpi"
  [render]="core data render"
  [train]="core tensor nn optim data comm comm/liveness comm/sync render train train/tasks"
  [train/tasks]="core tensor nn optim data comm render train train/tasks"
  [eval]="core tensor nn data eval"
  [ckpt]="core tensor nn optim data train ckpt"
  [export]="core tensor nn export"
  [bench]="core tensor nn optim data comm comm/collectives train bench"
)
failures=0
for module in "${!allowed[@]}"; do
  for file in "$src/$module"/*.h "$src/$module"/*.cpp; do
    [ -e "$file" ] || continue
    while IFS= read -r included; do
      dir=$(dirname "$included")
      case " ${allowed[$module]} " in
        *" $dir "*) ;;
        *) echo "${file#"$1"/}: includes \"$included\", but $module may include only: ${allowed[$module]}"
           failures=$((failures + 1)) ;;
      esac
    done < <(sed -n 's/^#include "\([a-z_/]*\/[a-z_0-9.]*\)".*/\1/p' "$file")
  done
done
# Generated headers (dtrain_version.h, builtin_models.inc) have no folder and are not checked.
if [ "$failures" -gt 0 ]; then
  echo "include rules: $failures include(s) point upward or sideways (docs/design.md \"Layout\")"
  exit 1
fi
echo "include rules: every include under src/ follows docs/design.md \"Layout\""
