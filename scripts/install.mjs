console.log("install: placeholder")
