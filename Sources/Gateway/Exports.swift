// `import Gateway` is the whole gateway: the assembly here and the modules it assembles.
@_exported import Delivery
@_exported import GatewayHTTP
@_exported import Intake
