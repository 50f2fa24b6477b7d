import Hummingbird
import NIOCore

/// Request context that keeps the connection, so the emulator can count connections and close
/// idle ones on purpose.
struct EmulatorContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel.connection
    }
}
