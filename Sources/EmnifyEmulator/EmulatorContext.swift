import Hummingbird
import NIOCore

/// Request context that keeps the connection, so the emulator can count connections and close
/// idle ones on purpose, and the fault `AnswerFaultMiddleware` is to apply.
struct EmulatorContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// Set by `DeliveryFaultMiddleware` for the faults that shape the answer's content.
    var answerFault: Fault?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel.connection
    }
}

/// The emulator's middlewares, all on `EmulatorContext`.
protocol EmulatorMiddleware: RouterMiddleware where Context == EmulatorContext {}
