import Foundation
import PackagePlugin

/// Fixes the source commit into the build: writes `BuildInfo.swift` with the
/// git commit of the package's own source tree, read when the binary is built.
///
/// The commit is `unknown` when the package is not a git checkout (a source
/// archive) or git is absent, and ends in `-dirty` when tracked files differ
/// from it. The file is rewritten only when its text changes, so an unchanged
/// tree does not rebuild the module. girfec never runs git when it runs, so
/// nothing in the user's working folder is read or touched.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let script = #"""
        set -eu
        package="$1"; output="$2"
        commit=unknown
        if command -v git >/dev/null 2>&1 && [ -e "$package/.git" ]; then
          if c=$(git -C "$package" rev-parse --verify HEAD 2>/dev/null); then
            commit="$c"
            if [ -n "$(git -C "$package" status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit-dirty"; fi
          fi
        fi
        mkdir -p "$output"
        tmp="$output/.BuildInfo.swift.$$"
        {
          echo '// Written when girfec is built, by Sources/BuildInfoPlugin; not in the repository.'
          echo 'enum BuildInfo {'
          echo '    /// The git commit of the source tree this binary was built from.'
          echo "    static let gitCommit = \"$commit\""
          echo '}'
        } > "$tmp"
        if cmp -s "$tmp" "$output/BuildInfo.swift"; then rm -f "$tmp"; else mv "$tmp" "$output/BuildInfo.swift"; fi
        """#
        return [
            .prebuildCommand(
                displayName: "girfec: source commit into BuildInfo.swift",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "build-info", context.package.directoryURL.path, output.path],
                outputFilesDirectory: output),
        ]
    }
}
