// Loads the built addon; throws when it was not built (the caller falls back).
'use strict';
module.exports = require('./build/Release/hearth_sendmmsg.node');
