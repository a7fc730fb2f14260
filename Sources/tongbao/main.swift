print("tongbao")
