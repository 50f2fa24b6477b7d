/// The version in `--version`, the User-Agent and the diagnostics.
public enum EdgeVersion {
    public static let current = "0.1.0"
}
